from qbo_sandbox.cli import main

main()
