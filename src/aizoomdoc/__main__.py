from aizoomdoc.cli import main

main()
