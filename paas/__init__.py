"""paas: a Heroku-style platform as a service on Docker."""

__version__ = "0.1.0"

# The REST API version the server speaks and the CLI asks for. Bump it when a
# change would break a /v1 client, and keep serving the old one meanwhile.
API_VERSION = 1
