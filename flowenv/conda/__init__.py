"""What flowenv knows of conda, shared by the resolver and the creator: loading
py-rattler, channels, match specs and package file names, virtual packages."""
