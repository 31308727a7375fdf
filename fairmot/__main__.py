import sys

from fairmot.cli import main

sys.exit(main())
