"""Bluesky devices for labthings: ophyd-async Devices built from Thing Descriptions.

>>> server = LabThingsServer("http://127.0.0.1:5000/")
>>> stage, camera = server.device("stage"), server.device("camera")
>>> stage_z = ActionAxis(stage, "z", name="stage_z")   # set(z) invokes move_to
>>> RE(scan([camera], stage_z, -200, 200, 5))           # reads camera-sharpness
>>> RE(count([camera.capture], num=2))                  # each event: the blob's href
"""

from .actions import ThingAction
from .axis import ActionAxis, ActionMoveLogic
from .client import ThingClient
from .device import LabThingsServer, PropertyFields, ThingDevice
from .invocation import ActionCancelled, ActionFailed, Invocation, LabThingsError
from .signals import OutputBackend, PropertyBackend, property_signal
from .td import ActionAffordance, PropertyAffordance, ThingDescription, Value, value_tree

__all__ = [
    "ActionAffordance",
    "ActionAxis",
    "ActionCancelled",
    "ActionFailed",
    "ActionMoveLogic",
    "Invocation",
    "LabThingsError",
    "LabThingsServer",
    "OutputBackend",
    "PropertyAffordance",
    "PropertyBackend",
    "PropertyFields",
    "ThingAction",
    "ThingClient",
    "ThingDescription",
    "ThingDevice",
    "Value",
    "property_signal",
    "value_tree",
]
