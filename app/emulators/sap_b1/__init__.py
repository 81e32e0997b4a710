"""A faithful SAP Business One Service Layer emulator (see /work/shared/reference §14)."""

from app.emulators.sap_b1.app import create_app
from app.emulators.sap_b1.config import EmulatorConfig, FaultConfig, load_faults

__all__ = ["EmulatorConfig", "FaultConfig", "create_app", "load_faults"]
