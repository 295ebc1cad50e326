"""Pure TAXII 2.1 protocol code: filters, cursors, media types, resources. No web or database imports."""
