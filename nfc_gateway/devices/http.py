"""HTTP routes for devices: registration by an admin, offline sales upload, deny-list acks, heartbeats.

Handlers stay thin: parse, call `registry` or `offline_sales`, render the device's status. Roles:
``admin`` registers, revokes and lists every device; ``authority`` lists and reads its own
(another's is a 404, and ``authority=`` naming another a 403); a ``device`` key reads, heartbeats,
acknowledges and uploads for its own device id only (another id: 403 ``other_device``).
The rules (silence, contact gap, credit default, sale age) are `registry.DeviceSettings`: the
app's own on ``DEVICE_SETTINGS`` when set, else the defaults.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from nfc_gateway.devices import schemas
from nfc_gateway.devices.offline_sales import parse_offline_sales, upload_offline_sales
from nfc_gateway.devices.registry import (
    DeviceKind,
    DeviceSettings,
    acknowledge_denylist,
    get_device_status,
    list_device_status,
    record_heartbeat,
    register_device,
    revoke_device,
)
from nfc_gateway.errors import InvalidDeviceRequest, OtherDevice, UnknownDevice
from oura.auth import Role, require_authority
from oura.http import RouteTable, get_principal, json_response, path_param, query, query_str, read_json, reply, schema_ref
from oura.http.schemas import ID_MAXIMUM
from oura.keys import CLOCK, POOL
from ticketing.startup import TICKETING

__all__ = ["routes", "DEVICE_SETTINGS"]

routes = RouteTable(tag="devices", components=schemas.COMPONENTS)
DEVICE_SETTINGS = web.AppKey("nfc_gateway.devices.settings", DeviceSettings)

_DEVICE_ID = path_param("device_id", "integer", minimum=1, maximum=ID_MAXIMUM, description="the device's id")
_DEVICE = reply("The device and its status", schema_ref("Device"))
_NOT_FOUND = "No such device (or, for an authority key, another authority's)"


def _settings(request: web.Request) -> DeviceSettings:
    return request.app.get(DEVICE_SETTINGS) or DeviceSettings()


def _device_id(request: web.Request) -> int:
    try:
        device_id = int(request.match_info["device_id"])
    except ValueError:
        raise UnknownDevice() from None
    if not 1 <= device_id <= ID_MAXIMUM:
        raise UnknownDevice()
    return device_id


async def _denylist_version(request: web.Request) -> int:
    """The current deny-list version, as ticketing serves it to devices."""
    service = request.app.get(TICKETING)
    if service is None:
        return 0
    version, _ = await service.list_denylist(0, 0)
    return int(version)


async def _status_json(request: web.Request, device_id: int) -> dict[str, Any]:
    status = await get_device_status(request.app[POOL], device_id, current_denylist_version=await _denylist_version(request),
                                     now=request.app[CLOCK].now(), settings=_settings(request))
    return status.to_json()


def _text(body: dict[str, Any], name: str, *, required: bool = True, max_length: int = 200) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= max_length:
        raise InvalidDeviceRequest(f"{name} must be a string of 1 to {max_length} characters")
    return value


def _integer(body: dict[str, Any], name: str, *, required: bool) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= ID_MAXIMUM:
        raise InvalidDeviceRequest(f"{name} must be an integer from 0 to {ID_MAXIMUM}")
    return value


async def _object_body(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    if not required and not request.can_read_body:
        return {}
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidDeviceRequest("the body must be a JSON object")
    return body


@routes.post("/v1/devices", summary="Register a vending machine or a validator (its API key is shown once)",
             roles=[Role.ADMIN], body=schemas.REGISTRATION_REQUEST,
             responses={201: reply("The device and its API key (role device; shown once)", schema_ref("DeviceRegistration")),
                        404: "No authority of the registry has this id (unknown_device_authority)"})
async def register(request: web.Request) -> web.Response:
    """A vending machine sells with its own key (recorded as the sales point of its sales, named
    by its label) and gets an offline credit limit (default 50000 minor units); a validator posts
    validations with it."""
    body = await _object_body(request)
    kind = body.get("kind")
    if kind not in tuple(DeviceKind):
        raise InvalidDeviceRequest(f"kind must be one of {', '.join(DeviceKind)}")
    authority_id = _text(body, "authority_id")
    label = _text(body, "label", max_length=schemas.MAX_LABEL)
    limit = _integer(body, "offline_credit_limit_minor", required=False)
    service = request.app.get(TICKETING)
    authorities = set(service.network_authority.values()) if service is not None else set()
    registration = await register_device(
        request.app[POOL], authority_id=authority_id, kind=DeviceKind(kind), label=label,
        offline_credit_limit_minor=limit, authorities=authorities, actor_key_id=get_principal(request).key_id,
        now=request.app[CLOCK].now(), settings=_settings(request))
    device = await _status_json(request, registration.device_id)
    return json_response({"device": device, "api_key": registration.token}, status=201)


@routes.get("/v1/devices", summary="Devices and their status (an authority: its own)", roles=[Role.ADMIN, Role.AUTHORITY],
            params=[query("authority", maxLength=200, description="only this authority's devices (an authority key: its own)"),
                    query("kind", enum=["vending_machine", "validator"], description="only this kind")],
            responses={200: reply("The devices, by id", schema_ref("DeviceList"))})
async def list_devices(request: web.Request) -> web.Response:
    """Each with its last contact and heartbeat, its deny-list version against the current one
    (``stale_denylist``), ``silent`` when not heard from for 15 minutes, and its offline sales:
    sold, refused, in progress, awaiting upload and the gaps in its sequences."""
    principal = get_principal(request)
    authority_id = query_str(request.query, "authority", max_length=200)
    if principal.role is not Role.ADMIN:
        if authority_id is not None:
            require_authority(principal, authority_id)
        authority_id = principal.authority_id
    kind = query_str(request.query, "kind", max_length=40)
    if kind is not None and kind not in tuple(DeviceKind):
        raise InvalidDeviceRequest(f"kind must be one of {', '.join(DeviceKind)}")
    statuses = await list_device_status(request.app[POOL], authority_id=authority_id, kind=kind,
                                        current_denylist_version=await _denylist_version(request),
                                        now=request.app[CLOCK].now(), settings=_settings(request))
    return json_response({"devices": [s.to_json() for s in statuses]})


@routes.get("/v1/devices/{device_id}", summary="One device and its status",
            roles=[Role.ADMIN, Role.AUTHORITY, Role.DEVICE], params=[_DEVICE_ID],
            responses={200: _DEVICE, 403: "A device key asking for another device (other_device)", 404: _NOT_FOUND})
async def get_device(request: web.Request) -> web.Response:
    principal = get_principal(request)
    status = await _status_json(request, _device_id(request))
    if principal.role is Role.AUTHORITY and status["authority_id"] != principal.authority_id:
        raise UnknownDevice()
    if principal.role is Role.DEVICE and status["key_id"] != principal.key_id:
        raise OtherDevice(f"this key is not the key of device {status['device_id']}")
    return json_response(status)


@routes.post("/v1/devices/{device_id}/revoke", summary="Revoke a device and its key", roles=[Role.ADMIN],
             params=[_DEVICE_ID], responses={200: _DEVICE, 404: _NOT_FOUND})
async def revoke(request: web.Request) -> web.Response:
    """The key stops working within the key cache's seconds; the device routes refuse the device
    at once. Revoking twice changes nothing."""
    device_id = _device_id(request)
    await revoke_device(request.app[POOL], device_id, actor_key_id=get_principal(request).key_id,
                        now=request.app[CLOCK].now())
    return json_response(await _status_json(request, device_id))


@routes.post("/v1/devices/{device_id}/heartbeat", summary="The device is alive (and, a vending machine, its last sequence)",
             roles=[Role.DEVICE], params=[_DEVICE_ID], body=schemas.HEARTBEAT_REQUEST, body_required=False,
             responses={200: _DEVICE, 403: "Another device's id (other_device), or a revoked device", 404: _NOT_FOUND})
async def heartbeat(request: web.Request) -> web.Response:
    """The answer carries the current deny-list version, so a device learns it is behind."""
    device_id = _device_id(request)
    body = await _object_body(request, required=False)
    last_sequence = _integer(body, "last_sequence", required=False)
    await record_heartbeat(request.app[POOL], get_principal(request), device_id, last_sequence=last_sequence,
                           now=request.app[CLOCK].now(), settings=_settings(request))
    return json_response(await _status_json(request, device_id))


@routes.post("/v1/devices/{device_id}/denylist-ack", summary="The device holds the deny list up to a version",
             roles=[Role.DEVICE], params=[_DEVICE_ID], body=schemas.DENYLIST_ACK_REQUEST,
             responses={200: _DEVICE, 403: "Another device's id (other_device), or a revoked device", 404: _NOT_FOUND,
                        409: "A version above the current one (denylist_version_ahead)"})
async def denylist_ack(request: web.Request) -> web.Response:
    """A version below the one acknowledged before is ignored (the highest is kept)."""
    device_id = _device_id(request)
    version = _integer(await _object_body(request), "version", required=True)
    await acknowledge_denylist(request.app[POOL], get_principal(request), device_id, version=version,
                               current_version=await _denylist_version(request), now=request.app[CLOCK].now(),
                               settings=_settings(request))
    return json_response(await _status_json(request, device_id))


@routes.post("/v1/devices/{device_id}/offline-sales",
             summary="Upload a vending machine's offline sales (idempotent on device and sequence)",
             requires="catalogue", roles=[Role.DEVICE], params=[_DEVICE_ID], body=schemas.OFFLINE_SALES_REQUEST,
             responses={200: reply("One outcome per sale: sold (its order), refused (a reason code) or in progress; "
                                   "replayed when received before", schema_ref("OfflineSalesResult")),
                        403: "Another device's id (other_device), or a revoked device", 404: _NOT_FOUND,
                        409: "The device is a validator (not_a_vending_machine)"})
async def offline_sales(request: web.Request) -> web.Response:
    """Each sale becomes an order dated at its ``sold_at``, sold by the machine's authority, within
    the machine's offline credit per offline window (see nfc_gateway/devices/README.md)."""
    device_id = _device_id(request)
    sales = parse_offline_sales(await read_json(request))
    service = request.app[TICKETING]
    result = await upload_offline_sales(
        request.app[POOL], get_principal(request), device_id, sales, catalogue=service.catalogue,
        network_authority=service.network_authority, now=request.app[CLOCK].now(), settings=_settings(request))
    return json_response(result.to_json())
