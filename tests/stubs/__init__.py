"""Local HTTP stand-ins for remote services (Gemini, Serper), bound to 127.0.0.1 only."""
