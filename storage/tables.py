"""Piccolo tables of ``storage``: none.

The stores keep their own state: objects, upload manifests, parts and write-once markers
live in the bucket or folder itself, so a store works without a database (a Celery worker
or the CLI can use it alone). The rows that refer to objects (documents, bid files and
their parts with sizes and hashes) belong to the packages that own them. The app exists so
every package has the same piccolo layout.
"""
