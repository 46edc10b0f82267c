"""The 360's notes panel as a tag, so the page includes it without its view knowing of notes."""

from django import template

from customers.notes_views import notes_context

register = template.Library()


@register.inclusion_tag("customers/_notes.html", takes_context=True)
def customer_notes(context, customer):
    return notes_context(context["request"], customer)
