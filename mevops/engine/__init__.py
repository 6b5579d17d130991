"""The bundled async MEV engine: collectors → strategies → executors."""
