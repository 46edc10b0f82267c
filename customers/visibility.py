"""Who may see which customer: the one rule every list, page and action applies to restricted customers.

The truth is django-guardian's ``customers.view_customer`` grant on the customer, to a person or to one of
their groups, kept in tables with a real foreign key to the customer (``CustomerUserGrant``,
``CustomerGroupGrant``). Assignment gives and takes the grant; sharing gives one without assignment. So
``user.has_perm("customers.view_customer", customer)`` and every list filtered here agree.
"""

from django.db.models import Q, QuerySet
from guardian.shortcuts import assign_perm, remove_perm

from accounts.roles import Role, role_of
from customers.models import Customer, CustomerGroupGrant, CustomerUserGrant

VIEW_GRANT = "customers.view_customer"
_VIEW_CODENAME = VIEW_GRANT.split(".")[1]


def sees_every_customer(user) -> bool:
    """Restricted customers are visible to the owner and to the staff holding a grant."""
    return user.is_superuser or role_of(user) == Role.OWNER


def restricted_grants(user, prefix: str = "") -> Q:
    """Customers this person holds a view grant on, directly or through a group, as subqueries on the
    grant tables: lists filter in the database, never per row."""
    # The grant tables hold customer permissions only (guardian checks the content type on save).
    mine = CustomerUserGrant.objects.filter(user_id=user.pk, permission__codename=_VIEW_CODENAME)
    my_groups = CustomerGroupGrant.objects.filter(group__user=user.pk, permission__codename=_VIEW_CODENAME)
    return Q(**{f"{prefix}pk__in": mine.values("content_object_id")}) | Q(
        **{f"{prefix}pk__in": my_groups.values("content_object_id")})


def customer_visibility_q(user, prefix: str = "") -> Q:
    """The one rule for restricted customers, as a filter on any model that reaches a customer via ``prefix``."""
    if sees_every_customer(user):
        return Q()
    return Q(**{f"{prefix}restricted": False}) | restricted_grants(user, prefix)


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
    return Customer.objects.filter(restricted_grants(user), pk=customer.pk).exists()


def view_grant_give(*, customer: Customer, user) -> None:
    """The one writer of grants (assignment and sharing call it); runs inside the caller's transaction."""
    assign_perm(VIEW_GRANT, user, customer)


def view_grant_take(*, customer: Customer, user) -> None:
    remove_perm(VIEW_GRANT, user, customer)
