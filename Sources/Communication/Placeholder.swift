import CMPI
