"""The API's routers, one per concern; ``edge.api.app.create_app`` assembles them."""
