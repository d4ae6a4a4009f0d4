from journey_planner.cli import main

raise SystemExit(main())
