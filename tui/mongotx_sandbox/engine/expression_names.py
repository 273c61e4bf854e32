"""Names of MongoDB's aggregation expression operators, to refuse an unknown one when a
pipeline is parsed rather than when a document reaches it (manual: "Aggregation Pipeline
Operators", expression and accumulator operators usable in $addFields/$set/$project)."""

from __future__ import annotations

from typing import Any

from .errors import err

EXPRESSION_OPERATORS = frozenset(
    """
    $abs $acos $acosh $add $allElementsTrue $and $anyElementTrue $arrayElemAt
    $arrayToObject $asin $asinh $atan $atan2 $atanh $avg $binarySize $bitAnd $bitNot $bitOr
    $bitXor $bsonSize $ceil $cmp $concat $concatArrays $cond $convert $cos
    $cosh $dateAdd $dateDiff $dateFromParts $dateFromString $dateSubtract $dateToParts
    $dateToString $dateTrunc $dayOfMonth $dayOfWeek $dayOfYear $degreesToRadians $divide $eq
    $exp $filter $first $firstN $floor $function $getField $gt $gte $hour $ifNull $in
    $indexOfArray $indexOfBytes $indexOfCP $isArray $isNumber $isoDayOfWeek $isoWeek
    $isoWeekYear $last $lastN $let $literal $ln $log $log10 $lt $lte $ltrim $map $max $maxN
    $median $mergeObjects $meta $millisecond $min $minN $minute $mod $month $multiply $ne $not
    $objectToArray $or $percentile $pow $radiansToDegrees $rand $range $reduce $regexFind
    $regexFindAll $regexMatch $replaceAll $replaceOne $reverseArray $round $rtrim
    $second $setDifference $setEquals $setField $setIntersection $setIsSubset $setUnion $sin
    $sinh $size $slice $sortArray $split $sqrt $stdDevPop $stdDevSamp $strcasecmp $strLenBytes
    $strLenCP $substr $substrBytes $substrCP $subtract $sum $switch $tan $tanh $toBool $toDate
    $toDecimal $toDouble $toHashedIndexKey $toInt $toLong $toLower $toObjectId $toString
    $toUpper $toUUID $trim $trunc $tsIncrement $tsSecond $type $unsetField $week
    $year $zip
    """.split()
)


def check_expression(expr: Any, stage: str) -> None:
    """Raise 168 for an operator MongoDB does not have anywhere inside `expr`."""
    if isinstance(expr, list):
        for item in expr:
            check_expression(item, stage)
        return
    if not isinstance(expr, dict):
        return
    for key, value in expr.items():
        if key.startswith("$"):
            if key not in EXPRESSION_OPERATORS:
                raise err(168, f"Invalid {stage} :: caused by :: Unrecognized expression '{key}'")
            if key == "$literal":
                continue
        check_expression(value, stage)
