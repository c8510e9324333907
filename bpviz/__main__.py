from bpviz.cli import main

raise SystemExit(main())
