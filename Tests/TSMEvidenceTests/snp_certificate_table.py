"""The SEV-SNP certificate table (GHCB spec, the auxblob): its GUIDs and a reader, shared by the
independent checkers here. Entries of 24 bytes (GUID, offset, length, little-endian) up to an
all-zero GUID."""

import struct
import uuid

GUIDS = {
    "vcek": uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd").bytes,
    "vlek": uuid.UUID("a8074bc2-a25a-483e-aae6-39c045a0b8a1").bytes,
    "ask": uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782").bytes,
    "ark": uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae").bytes,
}


def table(auxblob):
    """The table's entries by GUID bytes."""
    entries, offset = {}, 0
    while offset + 24 <= len(auxblob):
        guid, start, length = auxblob[offset:offset + 16], *struct.unpack_from("<II", auxblob, offset + 16)
        if guid == bytes(16):
            break
        entries[guid] = auxblob[start:start + length]
        offset += 24
    return entries
