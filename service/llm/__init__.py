"""Model engines: the OpenAI-compatible provider client and the built-in offline engine."""
