"""Session recordings: format, writer, reader, exports."""
