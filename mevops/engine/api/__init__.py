"""The engine's API: REST + WebSocket streams + Prometheus metrics, served in the engine's own loop.

- ``service``  EngineService: what the API reads and steers (engine, risk, store, config), no HTTP
- ``auth``     bearer tokens with roles (viewer < operator < admin), rate limits per token and scope
- ``streams``  topics with sequence numbers, a replay buffer and per-client bounded queues
- ``metrics``  the Prometheus exposition (names from mevops.render.monitoring.ENGINE_METRICS)
- ``app``      the FastAPI application; ``server`` runs uvicorn inside the running loop
"""
