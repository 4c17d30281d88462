from kubelint_svc.cli import main

main()
