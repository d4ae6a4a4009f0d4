"""Ticketing errors: one class per stable machine code, the docstring is the default message.

The foundation's middleware renders them as RFC 9457 problem+json. Validation *decisions* are
not errors (a refused card is a normal answer, see `ticketing.validation.Reason`); these are for
requests that cannot be carried out at all.
"""

from __future__ import annotations

from oura.errors import BadRequest, Conflict, Forbidden, NotFound, OuraError, ServiceUnavailable, UnprocessableEntity

__all__ = [
    "TicketingError",
    "UnknownProduct",
    "UnknownMedium",
    "UnknownOrder",
    "InvalidOrder",
    "PriceMismatch",
    "IdempotencyKeyReused",
    "PaymentDeclined",
    "PaymentPending",
    "OtherAuthorityNetwork",
    "MediumNotDeclared",
    "AlreadyReconstituted",
    "RefundNotAllowed",
    "MediumNotActive",
    "OrderFailed",
    "InvalidEvents",
    "InvalidCommissionRate",
    "UnknownSellingAuthority",
    "UnknownCommissionRate",
    "DefaultCommissionRate",
    "EntitlementRequired",
    "UnregisteredAuthority",
    "InvalidEntitlement",
    "AnonymousMedium",
    "NotCardIssuer",
    "ReconstitutionProofRequired",
    "PaperNotReconstitutable",
    "UnownedNetwork",
    "InvalidChannel",
    "InvalidPayment",
    "InvalidPrice",
    "InvalidQuantity",
    "MediumRequired",
    "MixedCurrency",
    "MediumDenied",
    "MediumMismatch",
    "IdempotencyKeyRequired",
    "InvalidRefund",
    "AuthorityRequired",
    "InvalidLegs",
    "InvalidMedium",
    "InvalidProof",
    "InvalidDeclaration",
    "PrivacyBudgetExceeded",
]


class TicketingError(OuraError):
    """The ticketing request failed."""


class UnknownProduct(NotFound):
    """No fare product with this id (for this rider category and media)."""

    code = "unknown_product"


class UnknownMedium(NotFound):
    """No card or wallet with this serial number."""

    code = "unknown_medium"


class UnknownOrder(NotFound):
    """No order with this id for your sales point."""

    code = "unknown_order"


class InvalidOrder(BadRequest):
    """The order is malformed."""

    code = "invalid_order"


class PriceMismatch(Conflict):
    """The price sent does not match the catalogue price; quote again."""

    code = "price_mismatch"


class IdempotencyKeyReused(Conflict):
    """This Idempotency-Key was already used for a different request."""

    code = "idempotency_key_reused"


class PaymentDeclined(OuraError):
    """The payment was declined; nothing was charged."""

    status = 402
    code = "payment_declined"
    title = "Payment declined"


class PaymentPending(ServiceUnavailable):
    """The payment outcome is not known yet; retry with the same Idempotency-Key."""

    code = "payment_pending"


class OtherAuthorityNetwork(Forbidden):
    """This device belongs to another authority than the network it reports on."""

    code = "other_authority_network"


class MediumNotDeclared(Conflict):
    """Only a card declared lost or stolen can be reconstituted."""

    code = "medium_not_declared"


class AlreadyReconstituted(Conflict):
    """This card was already reconstituted onto a new card."""

    code = "already_reconstituted"


class RefundNotAllowed(Conflict):
    """This order cannot be refunded (not paid, already refunded, or its contract was used)."""

    code = "refund_not_allowed"


class MediumNotActive(Conflict):
    """The card or wallet of this order was declared lost or stolen, or replaced, before the sale
    was completed: nothing was loaded and the payment was refunded."""

    code = "medium_not_active"


class OrderFailed(Conflict):
    """This order failed before it was fulfilled: nothing was loaded, any charge was refunded.

    Reconciliation closed it because its client did not come back while its payment was pending;
    a retry is never charged again: place a new order."""

    code = "order_failed"


class InvalidEvents(UnprocessableEntity):
    """The validation batch contains malformed events; none was recorded."""

    code = "invalid_events"


class InvalidCommissionRate(BadRequest):
    """The body must be {"commission_permille": n} with n an integer from 0 to 1000."""

    code = "invalid_commission_rate"


class UnknownSellingAuthority(NotFound):
    """No authority with this id owns a network, so none can sell with this rate."""

    code = "unknown_authority"


class UnknownCommissionRate(NotFound):
    """This authority has no own commission rate: it uses the default."""

    code = "unknown_commission_rate"


class DefaultCommissionRate(Conflict):
    """The default commission rate ('*') can be changed but not deleted: every sale needs a rate."""

    code = "default_commission_rate"


class EntitlementRequired(Forbidden):
    """A rider category other than the default is sold only onto a card or wallet that holds a
    valid entitlement for it (recorded by a sales point of the card's authority); a paper ticket
    or an anonymous card holds the default category only."""

    code = "entitlement_required"


class InvalidEntitlement(BadRequest):
    """The body must be {"rider_category_id": id, "valid_until": time with offset, "proof_checked": true},
    for a rider category of the catalogue other than the default, valid until a later time."""

    code = "invalid_entitlement"


class AnonymousMedium(Conflict):
    """An anonymous card or wallet (or a paper ticket) holds the default rider category only: it
    cannot hold an entitlement. Register the card to a holder first."""

    code = "anonymous_medium"


class NotCardIssuer(Forbidden):
    """Only a sales point of the authority that issued this card may do this, unless the holder is
    present: for a registered card, the holder's account number; for an anonymous one, the secret
    printed on the card."""

    code = "not_card_issuer"


class ReconstitutionProofRequired(Forbidden):
    """Reconstituting a card needs proof: the holder's account number for a registered card, the
    secret printed on the card at issue for an anonymous one."""

    code = "reconstitution_proof_required"


class PaperNotReconstitutable(Conflict):
    """A paper ticket is never reconstituted: nothing proves who held it."""

    code = "paper_not_reconstitutable"


class UnregisteredAuthority(Forbidden):
    """This key acts for an authority that owns no network of the registry: it cannot sell."""

    code = "unregistered_authority"


# Malformed orders and bodies: each a stable code under InvalidOrder (400), the detail says which
# field or line.


class UnownedNetwork(InvalidOrder):
    """No authority of the registry owns this network: nothing on it can be sold or cleared."""

    code = "unowned_network"


class InvalidChannel(InvalidOrder):
    """The sales channel is not one of the known channels."""

    code = "invalid_channel"


class InvalidPayment(InvalidOrder):
    """The payment token is missing or is not a non-empty string."""

    code = "invalid_payment"


class InvalidPrice(InvalidOrder):
    """A price is missing or is not an integer amount of minor units."""

    code = "invalid_price"


class InvalidQuantity(InvalidOrder):
    """A quantity is not an integer in the allowed range."""

    code = "invalid_quantity"


class MediumRequired(InvalidOrder):
    """This product is loaded onto a card or wallet: the order line needs the medium's serial."""

    code = "medium_required"


class MixedCurrency(InvalidOrder):
    """One order, one currency: these products are priced in several."""

    code = "mixed_currency"


class MediumDenied(InvalidOrder):
    """The card or wallet is on the deny list."""

    code = "medium_denied"


class MediumMismatch(InvalidOrder):
    """The medium is not of the fare media the product is sold on."""

    code = "medium_mismatch"


class IdempotencyKeyRequired(InvalidOrder):
    """The Idempotency-Key header (1 to 200 characters) is required."""

    code = "idempotency_key_required"


class InvalidRefund(InvalidOrder):
    """The refund body must be a JSON object with a list of contract ids."""

    code = "invalid_refund"


class InvalidMedium(InvalidOrder):
    """The medium body is malformed (kind, holder)."""

    code = "invalid_medium"


class InvalidProof(InvalidOrder):
    """The holder proof is malformed: a string of 1 to 200 characters."""

    code = "invalid_proof"


class InvalidDeclaration(InvalidOrder):
    """A card or wallet is declared 'lost' or 'stolen'."""

    code = "invalid_declaration"


class InvalidLegs(BadRequest):
    """The body must be an object with 1 to 12 'legs', and string rider_category_id and fare_media_id."""

    code = "invalid_legs"


class AuthorityRequired(Forbidden):
    """This operation acts for an authority; use a key bound to one."""

    code = "authority_required"


class PrivacyBudgetExceeded(Conflict):
    """Releasing this period would spend more than an authority's privacy budget (epsilon) for it;
    nothing was released."""

    code = "privacy_budget_exceeded"


class StatisticsNotReleased(NotFound):
    """This period is not released yet: statistics of a service day are released once it is
    closed (an hour after it ends at 04:00), a month once all its days are."""

    code = "statistics_not_released"


class InvalidStatisticsPeriod(BadRequest):
    """period must be a service day YYYY-MM-DD or a month YYYY-MM."""

    code = "invalid_statistics_period"


class UnsupportedGrouping(BadRequest):
    """This group_by is not one of the supported groupings of this kind."""

    code = "unsupported_grouping"


class OtherAuthorityStatistics(Forbidden):
    """This network belongs to another authority: its statistics are not yours to read."""

    code = "other_authority_statistics"
