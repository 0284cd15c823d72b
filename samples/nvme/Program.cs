// Placeholder: the NVMe demo program arrives with the controller.
return 0;
