"""The Intercode (EN 1545) record layouts: every field, in card order, with its width in bits.

One readable table per record; nfc_gateway/intercode/README.md explains each one and its sources
(the CalypsoInspector card structure of Intercode network 250/149 and the Metrodroid Intercode
layout, checked against the real Navigo records of ../shared/specs/intercode-test-vectors).
A `Bitmap` lists its children in bit order: the first child is the bitmap's least significant bit.
"""

from __future__ import annotations

from nfc_gateway.intercode.fields import Bitmap, Element, Field, Repeat

__all__ = ["RECORD_BYTES", "ENVIRONMENT", "EVENT", "CONTRACT_FF", "CONTRACT_SHORT", "CONTRACT_LIST",
           "COUNTER_BYTES"]

RECORD_BYTES = 29
"""Calypso Ticketing records are 29 bytes (232 bits); the fields are followed by zero padding."""

COUNTER_BYTES = 3
"""A Calypso counter is a 3-byte unsigned integer; a 29-byte counter record holds 9 of them."""


def _date(name: str) -> Field:
    return Field(name, 14, "date")  # EN 1545 DateStamp: days since 1997-01-01


def _time(name: str) -> Field:
    return Field(name, 11, "time")  # EN 1545 TimeStamp: minutes since midnight, local time


def _network(name: str) -> Field:
    return Field(name, 24, "hex")  # country (3 BCD digits, 250 = France) + network (3 BCD digits)


# EF Environment/Holder (SFI 07, LID 2001): the application environment, then the holder.
ENVIRONMENT: tuple[Element, ...] = (
    Field("EnvApplicationVersionNumber", 6),  # Intercode version (3 high bits), application version (3 low)
    Bitmap("EnvBitmap", (
        _network("EnvNetworkId"),
        Field("EnvApplicationIssuerId", 8),
        _date("EnvApplicationValidityEndDate"),
        Field("EnvPayMethod", 11),
        Field("EnvAuthenticator", 16, "hex"),
        Field("EnvSelectList", 32, "hex"),
        Bitmap("EnvData", (
            Field("EnvCardStatus", 1),
            Field("EnvExtra", 0, "flag"),
        )),
    )),
    Bitmap("HolderBitmap", (
        Bitmap("HolderName", (
            Field("HolderSurname", 85, "text"),
            Field("HolderForename", 85, "text"),
        )),
        Bitmap("HolderBirth", (
            Field("HolderBirthDate", 32, "bcd_date"),
            Field("HolderBirthPlace", 115, "text"),
        )),
        Field("HolderBirthName", 85, "text"),
        Field("HolderIdNumber", 32),
        Field("HolderCountryAlpha", 24, "hex"),
        Field("HolderCompany", 32),
        Repeat("HolderProfiles", 4, Bitmap("HolderProfile", (
            _network("HolderProfileNetworkId"),
            Field("HolderProfileNumber", 8),
            _date("HolderProfileDate"),
        ))),
        Bitmap("HolderData", (
            Field("HolderDataCardStatus", 4),
            Field("HolderDataTeleReglement", 4),
            Field("HolderDataResidence", 17),
            Field("HolderDataCommercialId", 6),
            Field("HolderDataWorkPlace", 17),
            Field("HolderDataStudyPlace", 17),
            Field("HolderDataSaleDevice", 16),
            Field("HolderDataAuthenticator", 16, "hex"),
            _date("HolderDataProfileStartDate1"),
            _date("HolderDataProfileStartDate2"),
            _date("HolderDataProfileStartDate3"),
            _date("HolderDataProfileStartDate4"),
        )),
    )),
)

# EF Event log (SFI 08, LID 2010): date and time of the event, then a 28-bit bitmap.
EVENT: tuple[Element, ...] = (
    _date("EventDateStamp"),
    _time("EventTimeStamp"),
    Bitmap("EventBitmap", (
        Field("EventDisplayData", 8),
        _network("EventNetworkId"),
        Field("EventCode", 8),  # transport mode (4 high bits), event type (4 low bits)
        Field("EventResult", 8),
        Field("EventServiceProvider", 8),
        Field("EventNotOkCounter", 8),
        Field("EventSerialNumber", 24),
        Field("EventDestination", 16),
        Field("EventLocationId", 16),
        Field("EventLocationGate", 8),
        Field("EventDevice", 16),
        Field("EventRouteNumber", 16),
        Field("EventRouteVariant", 8),
        Field("EventJourneyRun", 16),
        Field("EventVehicleId", 16),
        Field("EventVehicleClass", 8),
        Field("EventLocationType", 5),
        Field("EventEmployee", 240, "hex"),
        Field("EventLocationReference", 16),
        Field("EventJourneyInterchanges", 8),
        Field("EventPeriodJourneys", 16),
        Field("EventTotalJourneys", 16),
        Field("EventJourneyDistance", 16),
        Field("EventPriceAmount", 16),
        Field("EventPriceUnit", 16),
        Field("EventContractPointer", 5),
        Field("EventAuthenticator", 16, "hex"),
        Bitmap("EventData", (
            _date("EventDataDateFirstStamp"),
            _time("EventDataTimeFirstStamp"),
            Field("EventDataSimulation", 1),
            Field("EventDataTrip", 2),
            Field("EventDataRouteDirection", 2),
        )),
    )),
)

# EF Contracts (SFI 09, LID 2020..): the public transport contract of contract structure FF, the
# EN 1545 generic layout with a 20-bit bitmap (Navigo's and OùRA's contracts).
CONTRACT_FF: tuple[Element, ...] = (
    Bitmap("ContractBitmap", (
        _network("ContractNetworkId"),
        Field("ContractProvider", 8),
        Field("ContractTariff", 16),
        Field("ContractSerialNumber", 32),
        Bitmap("ContractCustomerInfo", (
            Field("ContractCustomerProfile", 6),
            Field("ContractCustomerNumber", 32),
        )),
        Bitmap("ContractPassengerInfo", (
            Field("ContractPassengerClass", 6),
            Field("ContractPassengerTotal", 8),
        )),
        Field("ContractVehicleClassAllowed", 6),
        Field("ContractPaymentPointer", 32),
        Field("ContractPayMethod", 11),
        Field("ContractServices", 16),
        Field("ContractPriceAmount", 16),
        Field("ContractPriceUnit", 16),
        Bitmap("ContractRestriction", (
            _time("ContractRestrictStart"),
            _time("ContractRestrictEnd"),
            Field("ContractRestrictDay", 8),
            Field("ContractRestrictTimeCode", 8),
            Field("ContractRestrictCode", 8),
            Field("ContractRestrictProduct", 16),
            Field("ContractRestrictLocation", 16),
        )),
        Bitmap("ContractValidityInfo", (
            _date("ContractValidityStartDate"),
            _time("ContractValidityStartTime"),
            _date("ContractValidityEndDate"),
            _time("ContractValidityEndTime"),
            Field("ContractValidityDuration", 8),
            _date("ContractValidityLimitDate"),
            Field("ContractValidityZones", 8),
            Field("ContractValidityJourneys", 16),
            Field("ContractPeriodJourneys", 16),
        )),
        Bitmap("ContractJourneyData", (
            Field("ContractJourneyOrigin", 16),
            Field("ContractJourneyDestination", 16),
            Field("ContractJourneyRouteNumbers", 16),
            Field("ContractJourneyRouteVariants", 8),
            Field("ContractJourneyRun", 16),
            Field("ContractJourneyVia", 16),
            Field("ContractJourneyDistance", 16),
            Field("ContractJourneyInterchanges", 8),
        )),
        Bitmap("ContractSaleData", (
            _date("ContractSaleDate"),
            _time("ContractSaleTime"),
            Field("ContractSaleAgent", 8),
            Field("ContractSaleDevice", 16),
        )),
        Field("ContractStatus", 8),
        Field("ContractLoyaltyPoints", 16),
        Field("ContractAuthenticator", 16, "hex"),
        Field("ContractData", 0, "flag"),
    )),
)

# EF Contracts, the short Intercode public transport contract (7-bit bitmap): the head shared by
# contract structures 17h, 20h and 46h; what follows ContractData depends on the structure and is
# kept as unknown bits.
CONTRACT_SHORT: tuple[Element, ...] = (
    Bitmap("ContractBitmap", (
        Field("ContractProvider", 8),
        Field("ContractTariff", 16),
        Field("ContractSerialNumber", 32),
        Field("ContractPassengerClass", 8),
        Bitmap("ContractValidityInfo", (
            _date("ContractValidityStartDate"),
            _date("ContractValidityEndDate"),
        )),
        Field("ContractStatus", 8),
        Field("ContractData", 0, "flag"),
    )),
)

# EF Contract list (best contracts, SFI 1E, LID 2050): a 4-bit count, then one bitmap per contract.
CONTRACT_LIST: tuple[Element, ...] = (
    Repeat("BestContracts", 4, Bitmap("BestContract", (
        _network("BestContractsNetworkId"),
        Field("BestContractsTariff", 16),  # bits 4..11: the contract structure (FF, 20h, 46h...)
        Field("BestContractsPointer", 5),  # record number in EF Contracts
    ))),
)
