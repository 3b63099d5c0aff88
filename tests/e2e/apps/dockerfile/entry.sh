#!/bin/sh
# Sets up the environment, then runs the command it is given.
export GREETING="Hello from a Dockerfile app"
exec "$@"
