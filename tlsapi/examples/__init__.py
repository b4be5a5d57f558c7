"""Short runnable examples of tlsapi (the test suite runs each one)."""
