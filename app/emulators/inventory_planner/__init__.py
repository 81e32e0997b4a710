"""A faithful Inventory Planner emulator (reference: /work/shared/reference/inventory-planner.md §11).

    from app.emulators.inventory_planner.app import create_app
    from app.emulators.inventory_planner.config import IPEmulatorConfig
    app = create_app(IPEmulatorConfig(sftp_port=0))   # app.state.ip is the IPStore

REST (`Authorization: <key>` + `Account: <account>`; defaults demo-ip-key / a1234):
  /api/v1/purchase-orders[/{id}[/items]], /api/v1/variants[/{id}[/vendors]], /api/v1/vendors[/{id}],
  /api/v1/webhooks[/{id}]. Anything else, or an empty User-Agent, answers a Cloudflare-like 403.

Control surface (no auth, not part of IP):
  POST  /_emulator/purchase-orders/{id}/save-to-connection   fire purchase-orders/connection-save
  PATCH /_emulator/purchase-orders/{id}                      edit as a planner would (ignores readonly)
  POST  /_emulator/sync                                      nightly sync: ingest SFTP files, publish
  Store (app.state.ip): run_sync(), edit_purchase_order(), read_stock(), stock_of(sku, wh),
  save_to_connection() / fetch_starter() (async) and their *_blocking() twins for test threads.
  POST  /_emulator/starter/fetch, GET|POST /_emulator/starter/connectors
  POST  /_emulator/faults   FaultConfig fields, optional "rng_seed", optional "webhooks": {WebhookConfig}
  GET   /_emulator/stats, GET /_emulator/sftp (port, root, known_hosts_line, host_public_key)

Webhook body: `{"purchase-order": <PO projected to the subscription's fields, "id" always kept>}`,
JSON, no signature header. SFTP folders under the root: warehouses/ variants/ variant-warehouses/
stock-orders/ sales-orders/ vendors/, each with a processed/ subfolder once files are ingested.
CSV ids are prefixed by the connection in the API: WAREHOUSE_ID "01" -> "c123_csv.01".
"""
