"""factory_boy factories for every model tests touch; each makes valid, normalised data."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User

from garage import models as garage


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("demo12345")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = garage.Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"B{n:02d}")
    name_en = factory.Sequence(lambda n: f"Branch {n}")
    name_ar = factory.Sequence(lambda n: f"فرع {n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = garage.Customer

    name_en = factory.Sequence(lambda n: f"Customer {n}")
    name_ar = factory.Sequence(lambda n: f"عميل {n}")
    phone = factory.Sequence(lambda n: f"+9665{n:08d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    city = "Riyadh"


class CompanyCustomerFactory(CustomerFactory):
    kind = garage.Customer.Kind.COMPANY
    vat_number = factory.Sequence(lambda n: f"3{n:013d}3")
    cr_number = "1010123456"
    building_number = "1234"
    street = "King Fahd Road"
    district = "Al Olaya"
    postal_code = "12211"


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = garage.Vehicle

    customer = factory.SubFactory(CustomerFactory)
    make = "Toyota"
    model = "Camry"
    year = 2021
    colour = "White"
    plate_number = factory.Sequence(lambda n: f"{n % 10000} {'ABJ'[n % 3]}{'DRS'[n // 3 % 3]}")


class ServiceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = garage.ServiceItem

    code = factory.Sequence(lambda n: f"SRV-{n:03d}")
    name_en = factory.Sequence(lambda n: f"Service {n}")
    name_ar = factory.Sequence(lambda n: f"خدمة {n}")
    default_price = Decimal("150.00")


class SparePartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = garage.SparePart

    sku = factory.Sequence(lambda n: f"PRT-{n:04d}")
    name_en = factory.Sequence(lambda n: f"Part {n}")
    name_ar = factory.Sequence(lambda n: f"قطعة {n}")
    sale_price = Decimal("45.00")
    cost = Decimal("30.00")


class PartStockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = garage.PartStock

    part = factory.SubFactory(SparePartFactory)
    branch = factory.SubFactory(BranchFactory)
    quantity = Decimal("10")


class JobCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = garage.JobCard

    number = factory.Sequence(lambda n: f"JOB-2026-{n:06d}")
    branch = factory.SubFactory(BranchFactory)
    customer = factory.SubFactory(CustomerFactory)
    vehicle = factory.SubFactory(VehicleFactory, customer=factory.SelfAttribute("..customer"))
    complaint = "Noise from the front brakes"


class ServiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = garage.JobLine

    job = factory.SubFactory(JobCardFactory)
    kind = garage.JobLine.Kind.SERVICE
    service_item = factory.SubFactory(ServiceItemFactory)
    description = factory.SelfAttribute("service_item.name_en")
    quantity = Decimal("1")
    unit_price = factory.SelfAttribute("service_item.default_price")


class PartLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = garage.JobLine

    job = factory.SubFactory(JobCardFactory)
    kind = garage.JobLine.Kind.PART
    spare_part = factory.SubFactory(SparePartFactory)
    description = factory.SelfAttribute("spare_part.name_en")
    quantity = Decimal("1")
    unit_price = factory.SelfAttribute("spare_part.sale_price")
