"""The .qi grammar, shipped inside the package."""
