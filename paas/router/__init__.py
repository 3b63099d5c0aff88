"""The router: host name -> app -> one of its web dynos."""
