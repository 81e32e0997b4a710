"""Mapping admin: SAP warehouses, item groups and vendors to their Inventory Planner counterparts."""
