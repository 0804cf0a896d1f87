"""Unit tests of the sealed-bid cryptography (envelope, key custody, receipts)."""
