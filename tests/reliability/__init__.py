"""The reliability and security suite: jurisdiction matrix, hostile input, authentication."""
