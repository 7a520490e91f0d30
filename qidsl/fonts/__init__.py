"""The font the video is drawn with, shipped so every machine renders the same."""
