import sys

from pbx.connector import main

sys.exit(main())
