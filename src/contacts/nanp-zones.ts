/**
 * US and Canadian area codes that lie wholly (or for all practical purposes) in one time zone, written by hand
 * from the states and provinces they serve. Area codes that straddle a zone boundary are left out on purpose:
 * their contacts fall back to the campaign's zone. Left out: 208/986 (Idaho), 219, 574, 812, 930 (Indiana),
 * 270/364 (Kentucky), 423 (Tennessee), 308 (Nebraska), 605 (South Dakota), 701 (North Dakota), 620, 785
 * (Kansas), 541/458 (Oregon), 850/448 (Florida panhandle), 906 (Michigan), 907 (Alaska), 915's neighbours
 * outside El Paso, 250/236/672/778 (British Columbia), 418/581/367 (Quebec, with the Magdalen Islands), 709/879
 * (Newfoundland and Labrador), 807 (north-western Ontario), 867 (the territories).
 * Other NANP countries (Jamaica, Puerto Rico, …) are resolved by country, not here.
 */

const BY_ZONE: Readonly<Record<string, string>> = {
  'America/New_York':
    // CT DE DC
    '203 475 860 959 302 202 771 ' +
    // FL (peninsula)
    '239 305 786 321 407 689 352 386 561 727 754 954 772 813 656 863 904 941 ' +
    // GA
    '229 404 470 478 678 706 762 770 912 943 ' +
    // ME MD MA
    '207 240 301 410 443 667 227 339 351 413 508 617 774 781 857 978 ' +
    // MI (lower peninsula) NH NJ
    '231 248 269 313 517 586 616 734 810 947 989 679 603 201 551 609 640 732 848 856 862 908 973 ' +
    // NY
    '212 315 332 347 516 518 585 607 631 646 680 716 718 838 845 914 917 929 934 329 363 ' +
    // NC OH
    '252 336 704 743 828 910 919 980 984 472 216 220 234 330 380 419 440 513 567 614 740 937 326 436 ' +
    // PA RI SC VT
    '215 223 267 272 412 445 484 570 582 610 717 724 814 835 878 401 803 839 843 854 864 821 802 ' +
    // VA WV KY (east) TN (Knoxville)
    '276 434 540 571 703 757 804 826 948 686 304 681 502 859 606 865',
  'America/Indiana/Indianapolis': '317 463 765 260',
  'America/Chicago':
    // AL AR
    '205 251 256 334 659 938 479 501 870 327 ' +
    // IL IA
    '217 224 309 312 331 447 464 618 630 708 773 779 815 847 872 730 319 515 563 641 712 ' +
    // KS (east) LA MN
    '316 913 225 318 337 504 985 457 218 320 507 612 651 763 952 924 ' +
    // MS MO NE (east)
    '228 601 662 769 314 417 573 636 660 816 557 235 402 531 ' +
    // OK TN (middle, west)
    '405 539 580 918 572 615 629 731 901 931 ' +
    // TX (all but El Paso)
    '210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 832 903 936 940 945 956 972 979 ' +
    // WI
    '262 414 534 608 715 920 274 353',
  'America/Denver': '303 719 720 970 983 406 505 575 385 435 801 307 915',
  'America/Phoenix': '480 520 602 623 928',
  'America/Los_Angeles':
    '209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 650 657 661 669 707 714 747 ' +
    '760 805 818 820 831 840 858 909 916 925 949 951 206 253 360 425 509 564 702 725 775 503 971',
  'Pacific/Honolulu': '808',
  // Canada
  'America/Vancouver': '604',
  'America/Edmonton': '403 587 780 825 368',
  'America/Regina': '306 639 474',
  'America/Winnipeg': '204 431 584',
  'America/Toronto':
    '226 249 289 343 365 382 416 437 519 548 613 647 683 705 742 753 905 263 354 438 450 514 579 819 873 468',
  'America/Moncton': '506 428',
  'America/Halifax': '782 902',
};

/** Area code (3 digits) → IANA zone, for the codes of BY_ZONE. */
export const NANP_AREA_CODE_ZONES: ReadonlyMap<string, string> = new Map(
  Object.entries(BY_ZONE).flatMap(([zone, codes]) => codes.split(/\s+/).map((code) => [code, zone] as const)),
);
