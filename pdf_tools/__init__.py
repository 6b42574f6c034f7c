"""PDF to text: bytes in, pages of text out, no Flask inside."""
