"""The HTTP shell: FastAPI app factory, authentication, TAXII routes, error mapping."""
