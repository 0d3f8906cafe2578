"""The contract partners rely on, built from the declaration and never from the request
parser: `openapi/` writes the OpenAPI document (by part), `catalog` holds the owner's endpoints as
declared (their scopes and models), `webhook_models` the wire shapes of webhook
endpoints and deliveries."""
