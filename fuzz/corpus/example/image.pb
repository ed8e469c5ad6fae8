
@

features



label


shape
