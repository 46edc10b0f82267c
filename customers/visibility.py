"""Who may see which customer: the one rule every list, page and action applies to restricted customers."""

from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.functions import Cast

from accounts.roles import Role, role_of
from customers.models import Customer


def sees_every_customer(user) -> bool:
    """Restricted customers are visible to the owner and to the staff holding a grant (their assignee)."""
    return user.is_superuser or role_of(user) == Role.OWNER


def restricted_grants(user) -> QuerySet:
    """Primary keys of the customers this person holds a django-guardian ``view_customer`` grant on
    (assignment grants it), as a subquery: lists filter in the database, never per row."""
    from guardian.models import UserObjectPermission

    return (
        UserObjectPermission.objects.filter(
            user_id=user.pk,
            content_type__app_label="customers",
            content_type__model="customer",
            permission__codename="view_customer",
        )
        .annotate(customer_pk=Cast("object_pk", BigIntegerField()))
        .values("customer_pk")
    )


def customer_visibility_q(user, prefix: str = "") -> Q:
    """The one rule for restricted customers, as a filter on any model that reaches a customer via ``prefix``."""
    if sees_every_customer(user):
        return Q()
    return Q(**{f"{prefix}restricted": False}) | Q(**{f"{prefix}pk__in": restricted_grants(user)})


def visible_through_customer(qs: QuerySet, *, user, prefix: str = "customer__") -> QuerySet:
    """``qs`` narrowed to the rows ``user`` may see through their customer; rows of no customer stay."""
    if sees_every_customer(user):
        return qs
    return qs.filter(Q(**{f"{prefix}isnull": True}) | customer_visibility_q(user, prefix))


def customers_visible_to(*, user) -> QuerySet[Customer]:
    return Customer.objects.filter(customer_visibility_q(user))


def customer_visible(*, user, customer: Customer) -> bool:
    if sees_every_customer(user) or not customer.restricted:
        return True
    return restricted_grants(user).filter(object_pk=str(customer.pk)).exists()
