"""Piccolo tables of ``storage``: none.

Object stores keep their own state (objects, upload parts); the database rows that refer
to objects belong to the packages that own them. The app exists so every domain package
is a piccolo app with the same layout.
"""
