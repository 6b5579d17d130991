from mevops.cli import main

main()
