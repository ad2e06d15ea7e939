from vdsr.cli import main

raise SystemExit(main())
