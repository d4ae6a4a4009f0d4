"""``python -m oura.demo generate|realtime ...`` (same as ``oura demo ...``)."""

import sys

from oura.demo.cli import main

sys.exit(main())
