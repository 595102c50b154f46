"""QuickFIX plumbing shared by both FIX edges: the engine wrapper, the socket binding and
the FIX <-> Interlock field codes. The acceptor desks log on to (`api/fix/`) and the
initiator that routes to a venue (`venue/fix.py`) both sit on it; it knows neither."""
