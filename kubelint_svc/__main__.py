from kubelint_svc.front_door import main

main()
