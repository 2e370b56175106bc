#!/usr/bin/env python3
"""Placeholder: parses a CCEL table and log with cctrusted_base and prints the replayed RTMRs."""
import sys
sys.exit(77)
