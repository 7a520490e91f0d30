"""Speech engines and the speech cache."""
