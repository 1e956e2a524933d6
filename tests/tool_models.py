"""Actions with rich schemas, for the tools tests and their golden files."""

from __future__ import annotations

import datetime
from typing import Any, Literal

import pydantic
from pydantic import Field

import jido


class Address(pydantic.BaseModel):
    """A postal address."""

    street: str = Field(description="Street and number")
    city: str
    postcode: str | None = Field(default=None, description="Postal code, if any")


class Line(pydantic.BaseModel):
    sku: str = Field(description="Product code", min_length=3)
    quantity: int = Field(default=1, ge=1, le=100)


class OrderParams(pydantic.BaseModel):
    customer: str = Field(description="Customer name")
    lines: list[Line] = Field(description="What to order", min_length=1)
    shipping: Address
    billing: Address | None = Field(default=None, description="Defaults to shipping")
    priority: Literal["low", "normal", "high"] = "normal"
    express: bool = False
    coupon: Literal[5, 10, 20] | None = None
    deliver_on: datetime.date | None = None
    notes: str = ""


class PlaceOrder(jido.Action):
    name = "place_order"
    description = "Place an order for a customer"
    schema = OrderParams

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"order": params}


class Category(pydantic.BaseModel):
    name: str
    children: list[Category] = []


class CategoryParams(pydantic.BaseModel):
    root: Category = Field(description="The tree to create")
    dry_run: bool = False


class CreateCategories(jido.Action):
    name = "create_categories"
    description = "Create a tree of categories"
    schema = CategoryParams

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"created": params["root"].name, "dry_run": params["dry_run"]}
