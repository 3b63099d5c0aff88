"""Add-ons: backing services from registry images, attached through config vars."""
