"""The paper's experiments as commands: thin entry points over the package's functions."""
